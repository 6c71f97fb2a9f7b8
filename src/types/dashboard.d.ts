// The dashboard's stylesheet, imported as text and embedded into the single binary.
declare module "*.css" {
  const text: string;
  export default text;
}
