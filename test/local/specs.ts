/** Specs the local-cluster tests share. */

/** A FINISH task that fails on its first run and succeeds on the second: the count lives in its volume. */
export const FINISH_SPEC = `
name: {{SERVICE_NAME}}
pods:
  job:
    count: 1
    tasks:
      once:
        goal: FINISH
        cmd: echo run >> data/runs && [ "$(wc -l < data/runs)" -ge 2 ]
        cpus: 0.1
        memory: 32
        volume:
          path: data
          type: ROOT
          size: 10
`;
