// The targets beyond raw throughput: scaling (tools, workspaces, grants), refresh rate, analytics, cold start and
// idle memory. Each returns a Measurement with its goal and whether it was met.
export interface Measurement {
  name: string;
  value: number;
  unit: string;
  target: string;
  met: boolean;
}

export async function extraMeasurements(log: (line: string) => void): Promise<Measurement[]> {
  log('(not measured yet)');
  return [];
}
