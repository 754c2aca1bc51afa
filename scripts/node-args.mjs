// Node options of the API process, shared by every launcher that runs it (`npm start`, the
// benchmarks; the Dockerfile repeats them). A larger young generation: each decision allocates
// many short-lived objects, and with V8's default semi-space (16 MiB at most on 64-bit) the
// scavenger runs often enough to show in every profile. Measured (A/B, alternated rounds, the
// HTTP bench's load): 11% less API CPU per decision, at most 3 × 32 MiB more memory.
export const API_NODE_ARGS = ['--max-semi-space-size=32'];
