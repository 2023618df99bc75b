// The few parts of autocannon's programmatic API the load worker uses (the package ships no types).
declare module 'autocannon' {
  interface Histogram {
    average: number;
    total: number;
    p50: number;
    p99: number;
  }
  interface Result {
    requests: Histogram;
    latency: Histogram;
    duration: number;
    non2xx: number;
    errors: number;
    timeouts: number;
  }
  interface Options {
    url: string;
    connections: number;
    duration: number;
    requests: unknown[];
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
