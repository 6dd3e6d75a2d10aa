// Lint: typescript-eslint's type-aware recommended rules, plus Pulumi's plugin,
// which catches an Output interpolated in a template literal.
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "standin/**", "eslint.config.mjs"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
    },
  },
  {
    // Untyped JSON: from mocks, the Docker API and the model server.
    files: ["**/*.test.ts", "test/**/*.ts", "tools/lib/dockerApi.ts", "tools/validate.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
