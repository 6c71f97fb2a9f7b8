// Text imports (`import x from "./f.sql" with { type: "text" }`) that Bun embeds into the single binary.
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.yaml" {
  const text: string;
  export default text;
}
declare module "*.csv" {
  const text: string;
  export default text;
}
declare module "*.avsc" {
  const text: string;
  export default text;
}
// File imports (`import p from "x.wasm" with { type: "file" }`): a path Bun can read, embedded into the single binary.
declare module "*.wasm" {
  const path: string;
  export default path;
}
declare module "*.ttf" {
  const path: string;
  export default path;
}
