/** The part of openapi-to-postmanv2 (no types of its own) that clients/postman/generate.ts uses. */
declare module 'openapi-to-postmanv2' {
  const Converter: {
    convert(
      input: { type: 'string' | 'json'; data: unknown },
      options: Record<string, unknown>,
      callback: (
        error: Error | null,
        result: { result: boolean; reason?: string; output: { type: string; data: unknown }[] },
      ) => void,
    ): void;
  };
  export default Converter;
}
