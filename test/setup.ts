// Preloaded by bunfig.toml: integration tests start real processes and servers, so give every
// test a minute on a 2-core machine (plain `bun test` would default to 5 s).
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(60_000);
