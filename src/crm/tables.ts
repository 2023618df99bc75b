// The demo CRM's tables. Every row belongs to one workspace; every query filters by it.
export interface CrmContactsTable {
  id: string;
  workspace_id: string;
  name: string;
  email: string | null;
  company: string | null;
  title: string | null;
  phone: string | null;
  notes: string | null;
  /** Lower-cased name, email, company and title: what search matches against (the same on both dialects). */
  search_text: string;
  created_at: number;
  updated_at: number;
}

export interface CrmDealsTable {
  id: string;
  workspace_id: string;
  contact_id: string | null;
  title: string;
  /** Integer minor units (cents). */
  amount_cents: number;
  /** ISO 4217 code. */
  currency: string;
  stage: string;
  /** `YYYY-MM-DD`, or null. */
  expected_close: string | null;
  search_text: string;
  created_at: number;
  updated_at: number;
  stage_changed_at: number;
}

export interface CrmTables {
  crm_contacts: CrmContactsTable;
  crm_deals: CrmDealsTable;
}
