// The answer every baseline and peer gives to `tools/call get_contact`: a contact and its deal, of the same form and
// size as the demo CRM's answer from Tollgate (about 1.3 KB on the wire with the text copy), so that every server
// serialises and sends the same bytes and differs only in what it does around them.
import { BENCH_CONTACT_ID } from './protocol.ts';

const stamp = '2026-11-14T00:58:26.182Z';

export const BENCH_CONTACT_ANSWER = {
  contact: {
    id: BENCH_CONTACT_ID,
    name: 'Aiko Tanaka',
    email: 'aiko@lumenhealth.io',
    company: 'Lumen Health',
    title: 'CTO',
    phone: '+1 415 555 0199',
    notes: 'Needs SOC 2 report before procurement review.',
    createdAt: stamp,
    updatedAt: stamp,
  },
  deals: [
    {
      id: 'dl_7rfddt865xiv',
      title: 'Lumen Health analytics suite',
      amount: 120000,
      currency: 'USD',
      stage: 'qualified',
      contactId: BENCH_CONTACT_ID,
      expectedClose: '2027-02-15',
      createdAt: stamp,
      updatedAt: stamp,
      stageChangedAt: stamp,
    },
  ],
};

/** The tool result: a text copy and the structured content, as Tollgate's get_contact answers. */
export const benchContactResult = () => ({ content: [{ type: 'text' as const, text: JSON.stringify(BENCH_CONTACT_ANSWER) }], structuredContent: BENCH_CONTACT_ANSWER });
