// Turns JSON Schema validation errors into one sentence a model (or a person) can act on: which field, what is wrong.
import type { ErrorObject } from 'ajv';

/** `/contact/emails/0` → `contact.emails[0]`. */
export function fieldName(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `missing required field "${fieldName(e.instancePath, String(p.missingProperty))}"`;
    case 'additionalProperties':
      return `unknown field "${fieldName(e.instancePath, String(p.additionalProperty))}"`;
    case 'enum':
      return `field "${fieldName(e.instancePath)}" must be one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `field "${fieldName(e.instancePath)}" must be ${JSON.stringify(p.allowedValue)}`;
    case 'type':
      return e.instancePath ? `field "${fieldName(e.instancePath)}" must be ${String(p.type)}` : `arguments must be ${String(p.type)}`;
    case 'format':
      return `field "${fieldName(e.instancePath)}" must be a valid ${String(p.format)}`;
    case 'minProperties':
      return e.instancePath ? `field "${fieldName(e.instancePath)}" ${e.message}` : `give at least ${String(p.limit)} field(s)`;
    default:
      return e.instancePath ? `field "${fieldName(e.instancePath)}" ${e.message ?? 'is invalid'}` : (e.message ?? 'arguments are invalid');
  }
}

/** At most a few distinct problems, in the validator's order. */
export function describeArgumentErrors(errors: readonly ErrorObject[] | null | undefined, max = 5): string {
  if (!errors?.length) return 'arguments are invalid';
  const seen: string[] = [];
  for (const e of errors) {
    // anyOf/oneOf add a summary error after their branches' own errors; the branch errors say more.
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue;
    const d = describe(e);
    if (!seen.includes(d)) seen.push(d);
    if (seen.length >= max) break;
  }
  return seen.length ? seen.join('; ') : 'arguments are invalid';
}
