export * from "./csv";
export * from "./replay";
export * from "./validate";
