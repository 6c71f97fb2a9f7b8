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
declare module "*.wasm" {
  const path: string; // `with { type: "file" }`: the file's path (inside the binary: a $bunfs path)
  export default path;
}
