// Lint: typescript-eslint's type-aware rules that catch real bugs (floating promises,
// non-exhaustive switches), plus the layering rule: the domain core stays pure.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["gen/**", "dist/**", "node_modules/**", "bin/**", "eslint.config.js"] },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "off",
      eqeqeq: ["error", "always", { null: "ignore" }],
    },
  },
  {
    files: ["src/domain/**/*.ts"],
    rules: {
      "no-restricted-globals": [
        "error",
        { name: "Date", message: "The domain takes time as an input (now: number)." },
        { name: "setTimeout", message: "The domain has no timers; the engine's Clock does." },
        { name: "process", message: "The domain reads no environment." },
        { name: "console", message: "The domain returns data; the engine logs." },
      ],
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["node:*", "pino", "../engine/*", "../../engine/*", "../adapters/*", "../../adapters/*"], message: "src/domain is pure: no I/O, no engine, no adapters." }] },
      ],
    },
  },
  {
    files: ["src/engine/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["../adapters/*", "../../adapters/*"], message: "The engine talks to adapters only through ports." }] },
      ],
    },
  },
  {
    // Plain-JavaScript entry points run by node without a loader (the task supervisor, the CLI shim).
    files: ["**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: null },
      globals: { process: "readonly", console: "readonly", URL: "readonly", setTimeout: "readonly" },
    },
  },
  {
    files: ["test/**/*.ts", "**/*.test.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-floating-promises": "off" },
  },
);
