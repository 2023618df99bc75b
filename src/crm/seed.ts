// Sample data for the `demo` workspace: a small B2B pipeline with contacts at a dozen companies and deals in every
// stage, dated relative to the day it is seeded so the pipeline looks current.
import type { CrmStore, Stage } from './store.ts';

const CONTACTS = [
  { key: 'maria', name: 'Maria Okafor', email: 'maria.okafor@northwind-logistics.com', company: 'Northwind Logistics', title: 'VP Operations', phone: '+1 312 555 0142', notes: 'Champion for the routing pilot. Prefers email over calls.' },
  { key: 'tom', name: 'Tom Becker', email: 'tom.becker@northwind-logistics.com', company: 'Northwind Logistics', title: 'Procurement Manager', phone: '+1 312 555 0177', notes: null },
  { key: 'aiko', name: 'Aiko Tanaka', email: 'aiko@lumenhealth.io', company: 'Lumen Health', title: 'CTO', phone: '+1 415 555 0199', notes: 'Needs SOC 2 report before procurement review.' },
  { key: 'daniel', name: 'Daniel Ruiz', email: 'druiz@lumenhealth.io', company: 'Lumen Health', title: 'Head of Data', phone: null, notes: null },
  { key: 'priya', name: 'Priya Raman', email: 'priya.raman@brightforge.com', company: 'Brightforge Manufacturing', title: 'Director of IT', phone: '+1 614 555 0110', notes: 'Budget cycle starts in Q3.' },
  { key: 'lukas', name: 'Lukas Meyer', email: 'l.meyer@brightforge.com', company: 'Brightforge Manufacturing', title: 'Plant Manager', phone: '+49 89 5550 2231', notes: null },
  { key: 'sofia', name: 'Sofia Lindqvist', email: 'sofia@fjordpay.se', company: 'FjordPay', title: 'Head of Partnerships', phone: '+46 8 555 012 34', notes: 'Met at Money20/20. Interested in the reseller tier.' },
  { key: 'omar', name: 'Omar Haddad', email: 'omar.haddad@cedarretail.com', company: 'Cedar Retail Group', title: 'Chief Digital Officer', phone: '+1 646 555 0123', notes: null },
  { key: 'grace', name: 'Grace Liu', email: 'grace.liu@cedarretail.com', company: 'Cedar Retail Group', title: 'E-commerce Lead', phone: null, notes: 'Asked for a sandbox with their catalogue.' },
  { key: 'james', name: 'James Whitfield', email: 'jwhitfield@harborlaw.com', company: 'Harbor & Whitfield LLP', title: 'Managing Partner', phone: '+1 617 555 0188', notes: 'Security questionnaire returned.' },
  { key: 'nadia', name: 'Nadia Petrova', email: 'nadia@orbitalanalytics.ai', company: 'Orbital Analytics', title: 'CEO', phone: '+1 206 555 0155', notes: null },
  { key: 'kwame', name: 'Kwame Mensah', email: 'kwame.mensah@sunridge-energy.com', company: 'Sunridge Energy', title: 'Head of Field Operations', phone: '+1 303 555 0160', notes: 'Wants offline support for field crews.' },
  { key: 'elena', name: 'Elena García', email: 'egarcia@sunridge-energy.com', company: 'Sunridge Energy', title: 'CFO', phone: null, notes: null },
  { key: 'ben', name: 'Ben Carter', email: 'ben@tinyowlstudio.com', company: 'Tiny Owl Studio', title: 'Founder', phone: '+44 20 5550 1122', notes: 'Small team, monthly billing only.' },
  { key: 'hannah', name: 'Hannah Schmidt', email: 'h.schmidt@alpenbank.de', company: 'Alpenbank', title: 'Head of Innovation', phone: '+49 30 5550 7788', notes: 'Data residency in the EU is a must.' },
  { key: 'raj', name: 'Raj Patel', email: 'raj.patel@alpenbank.de', company: 'Alpenbank', title: 'Enterprise Architect', phone: null, notes: null },
  { key: 'chloe', name: 'Chloé Martin', email: 'chloe.martin@maisonverde.fr', company: 'Maison Verde', title: 'COO', phone: '+33 1 55 50 12 34', notes: null },
  { key: 'sam', name: 'Sam Oduya', email: 'sam@quillandink.co', company: 'Quill & Ink', title: 'Operations Lead', phone: null, notes: 'Referred by Ben Carter.' },
  { key: 'isabel', name: 'Isabel Costa', email: 'isabel.costa@atlasfreight.com', company: 'Atlas Freight', title: 'VP Engineering', phone: '+1 305 555 0133', notes: null },
  { key: 'victor', name: 'Victor Nguyen', email: 'victor.nguyen@atlasfreight.com', company: 'Atlas Freight', title: 'Security Officer', phone: null, notes: 'Runs the vendor security review.' },
] as const;

type ContactKey = (typeof CONTACTS)[number]['key'];

const DEALS: { title: string; amount: number; currency?: string; stage: Stage; contact: ContactKey; closeInDays: number; ageDays: number }[] = [
  { title: 'Northwind routing platform – annual', amount: 84000, stage: 'negotiation', contact: 'maria', closeInDays: 14, ageDays: 61 },
  { title: 'Northwind driver app add-on', amount: 12500, stage: 'proposal', contact: 'tom', closeInDays: 30, ageDays: 20 },
  { title: 'Lumen Health analytics suite', amount: 120000, stage: 'qualified', contact: 'aiko', closeInDays: 75, ageDays: 18 },
  { title: 'Lumen data warehouse connector', amount: 18000, stage: 'lead', contact: 'daniel', closeInDays: 90, ageDays: 4 },
  { title: 'Brightforge plant monitoring (3 sites)', amount: 64500, stage: 'proposal', contact: 'priya', closeInDays: 45, ageDays: 33 },
  { title: 'Brightforge pilot – Munich plant', amount: 9800, currency: 'EUR', stage: 'won', contact: 'lukas', closeInDays: -12, ageDays: 70 },
  { title: 'FjordPay reseller agreement', amount: 45000, currency: 'EUR', stage: 'negotiation', contact: 'sofia', closeInDays: 21, ageDays: 40 },
  { title: 'Cedar Retail storefront search', amount: 38000, stage: 'won', contact: 'omar', closeInDays: -30, ageDays: 95 },
  { title: 'Cedar Retail catalogue sandbox', amount: 4500, stage: 'qualified', contact: 'grace', closeInDays: 20, ageDays: 9 },
  { title: 'Harbor & Whitfield document automation', amount: 27000, stage: 'lost', contact: 'james', closeInDays: -5, ageDays: 58 },
  { title: 'Orbital Analytics seed plan', amount: 6000, stage: 'lead', contact: 'nadia', closeInDays: 60, ageDays: 2 },
  { title: 'Sunridge field crew app', amount: 52000, stage: 'proposal', contact: 'kwame', closeInDays: 35, ageDays: 27 },
  { title: 'Sunridge finance reporting', amount: 21000, stage: 'lead', contact: 'elena', closeInDays: 80, ageDays: 6 },
  { title: 'Tiny Owl Studio – team plan', amount: 1800, currency: 'GBP', stage: 'won', contact: 'ben', closeInDays: -45, ageDays: 50 },
  { title: 'Alpenbank innovation lab licence', amount: 150000, currency: 'EUR', stage: 'qualified', contact: 'hannah', closeInDays: 120, ageDays: 15 },
  { title: 'Alpenbank EU hosting add-on', amount: 30000, currency: 'EUR', stage: 'lead', contact: 'raj', closeInDays: 120, ageDays: 15 },
  { title: 'Maison Verde supplier portal', amount: 22000, currency: 'EUR', stage: 'lost', contact: 'chloe', closeInDays: -20, ageDays: 44 },
  { title: 'Atlas Freight tracking API', amount: 76000, stage: 'negotiation', contact: 'isabel', closeInDays: 10, ageDays: 52 },
];

const DAY = 86_400_000;

/** Seeds the demo CRM into a workspace (once: does nothing when it already has contacts). */
export async function seedCrm(store: CrmStore, workspaceId: string, now = Date.now()): Promise<{ contacts: number; deals: number }> {
  return store.transaction((crm) => seedInto(crm, workspaceId, now));
}

async function seedInto(crm: CrmStore, workspaceId: string, now: number): Promise<{ contacts: number; deals: number }> {
  if ((await crm.countContacts(workspaceId)) > 0) return { contacts: 0, deals: 0 };
  const ids = new Map<ContactKey, string>();
  for (const [i, c] of CONTACTS.entries()) {
    const { key, ...input } = c;
    const contact = await crm.createContact(workspaceId, input, now - (CONTACTS.length - i) * DAY);
    ids.set(key, contact.id);
  }
  for (const d of DEALS) {
    const close = new Date(now + d.closeInDays * DAY).toISOString().slice(0, 10);
    await crm.createDeal(workspaceId, { title: d.title, amountCents: d.amount * 100, currency: d.currency ?? 'USD', stage: d.stage, contactId: ids.get(d.contact), expectedClose: close }, now - d.ageDays * DAY);
  }
  return { contacts: CONTACTS.length, deals: DEALS.length };
}
