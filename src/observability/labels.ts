// Bounded label values shared by the modules' metrics: one `workspace` label policy for every metric that has one,
// so a dashboard's workspaces agree across panels.
import { topNLabel } from './top-n.ts';

let workspace = topNLabel(20);

/** Set once at start from TOLLGATE_METRICS_TOP_WORKSPACES. */
export function limitWorkspaceLabels(limit: number): void {
  workspace = topNLabel(limit);
}

/** The `workspace` label for a slug: its own for the N busiest workspaces (re-ranked as traffic moves), `other` for the rest. */
export const workspaceLabel = (slug: string): string => workspace(slug);
