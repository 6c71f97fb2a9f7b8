export * from "./types";
export * from "./safety";
export * from "./throttle";
export * from "./exposure";
export * from "./chain";
