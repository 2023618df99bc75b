import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Workspace } from '../accounts/index.ts';
import { clientMayUseWorkspace, consentOptions, signInStep } from './authorization-policy.ts';

const ws = (id: string, name = id): Workspace => ({ id, slug: id, name, createdAt: 0, externalId: null });
const NOW = 1_700_000_000_000;
const signedInAgo = (seconds: number) => ({ authTime: NOW - seconds * 1000 });

test('sign-in: none without a session; prompt=login asks again and drops `login` for the way back', () => {
  assert.deepEqual(signInStep({ prompt: [] }, undefined, NOW), { kind: 'sign-in' });
  assert.deepEqual(signInStep({ prompt: [] }, signedInAgo(5), NOW), { kind: 'signed-in' });
  assert.deepEqual(signInStep({ prompt: ['login'] }, signedInAgo(1), NOW), { kind: 'fresh-sign-in', promptAfter: [] });
  assert.deepEqual(signInStep({ prompt: ['login', 'consent'] }, signedInAgo(1), NOW), { kind: 'fresh-sign-in', promptAfter: ['consent'] });
  // Without a session it is a plain sign-in, which is fresh anyway.
  assert.deepEqual(signInStep({ prompt: ['login'] }, undefined, NOW), { kind: 'sign-in' });
});

test('max_age: a sign-in older than max_age whole seconds asks again; max_age=0 is met within the same second', () => {
  assert.deepEqual(signInStep({ prompt: [], maxAge: 60 }, signedInAgo(61), NOW), { kind: 'fresh-sign-in', promptAfter: [] });
  assert.deepEqual(signInStep({ prompt: ['consent'], maxAge: 60 }, signedInAgo(61), NOW), { kind: 'fresh-sign-in', promptAfter: ['consent'] });
  assert.deepEqual(signInStep({ prompt: [], maxAge: 60 }, signedInAgo(60), NOW), { kind: 'signed-in' });
  assert.deepEqual(signInStep({ prompt: [], maxAge: 0 }, { authTime: NOW - 999 }, NOW), { kind: 'signed-in' });
  assert.deepEqual(signInStep({ prompt: [], maxAge: 0 }, signedInAgo(1), NOW), { kind: 'fresh-sign-in', promptAfter: [] });
});

test('prompt=none never shows a page: login_required without a (fresh enough) session, else consent_required', () => {
  const none = (maxAge?: number) => ({ prompt: ['none'], maxAge });
  assert.deepEqual(signInStep(none(), undefined, NOW), { kind: 'error', error: 'login_required', description: 'The user is not signed in' });
  assert.deepEqual(signInStep(none(), signedInAgo(5), NOW), { kind: 'error', error: 'consent_required', description: 'Consent is required' });
  assert.deepEqual(signInStep(none(10), signedInAgo(11), NOW), { kind: 'error', error: 'login_required', description: 'The user is not signed in' });
  assert.deepEqual(signInStep(none(10), signedInAgo(3), NOW), { kind: 'error', error: 'consent_required', description: 'Consent is required' });
});

test('a client a workspace created may be granted that workspace only; an unowned client any', () => {
  assert.equal(clientMayUseWorkspace(undefined, 'w1'), true);
  assert.equal(clientMayUseWorkspace(undefined, undefined), true);
  assert.equal(clientMayUseWorkspace('w1', 'w1'), true);
  assert.equal(clientMayUseWorkspace('w1', 'w2'), false);
  assert.equal(clientMayUseWorkspace('w1', undefined), false, 'an unknown workspace is not the owner');
});

test('consent options: a named workspace needs membership; a pick offers the user\'s workspaces', () => {
  const a = ws('a', 'Alpha');
  assert.deepEqual(consentOptions('App', { kind: 'workspace', slug: 'a', workspace: a, isMember: true }, undefined), { workspace: a, choices: undefined, blocked: undefined, ownerWorkspace: undefined });
  const notMember = consentOptions('App', { kind: 'workspace', slug: 'a', workspace: a, isMember: false }, undefined);
  assert.equal(notMember.blocked, 'You are not a member of the workspace "a", so you cannot give this app access to it.');
  assert.match(consentOptions('App', { kind: 'workspace', slug: 'gone', workspace: undefined, isMember: false }, undefined).blocked ?? '', /not a member of the workspace "gone"/);
  assert.deepEqual(consentOptions('App', { kind: 'pick', memberOf: [a, ws('b')] }, undefined).choices?.map((w) => w.id), ['a', 'b']);
  assert.equal(consentOptions('App', { kind: 'pick', memberOf: [] }, undefined).blocked, 'You are not a member of any workspace yet, so there is nothing to give this app access to.');
});

test('consent options for a workspace\'s own client: only its workspace is offered, any other is blocked with the reason', () => {
  const own = ws('own', 'Own team');
  const other = ws('other', 'Other team');
  const onlyOwn = 'Back office was created for the workspace "Own team" and can be given access to that workspace only.';
  assert.equal(consentOptions('Back office', { kind: 'workspace', slug: 'own', workspace: own, isMember: true }, own).blocked, undefined);
  const fixedOther = consentOptions('Back office', { kind: 'workspace', slug: 'other', workspace: other, isMember: true }, own);
  assert.equal(fixedOther.blocked, onlyOwn);
  assert.equal(fixedOther.ownerWorkspace, own);
  const picked = consentOptions('Back office', { kind: 'pick', memberOf: [other, own] }, own);
  assert.deepEqual(picked.choices?.map((w) => w.id), ['own']);
  assert.equal(picked.blocked, undefined);
  const noneLeft = consentOptions('Back office', { kind: 'pick', memberOf: [other] }, own);
  assert.deepEqual(noneLeft.choices, []);
  assert.equal(noneLeft.blocked, `${onlyOwn} You are not a member of it.`);
  // Membership is reported first: a non-member sees that reason, not the ownership one.
  assert.match(consentOptions('Back office', { kind: 'workspace', slug: 'other', workspace: other, isMember: false }, own).blocked ?? '', /not a member of the workspace "other"/);
});
