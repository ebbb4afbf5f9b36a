import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Nest's dependency injection reads constructor parameter types from decorator metadata,
  // which esbuild does not emit; SWC does.
  // The React Email example of the README (docs/examples) is TSX with React's automatic runtime.
  plugins: [swc.vite({ jsc: { transform: { legacyDecorator: true, decoratorMetadata: true, react: { runtime: 'automatic' } } } })],
  resolve: {
    // The sample app imports the package by name; in tests its entry points mean the sources.
    alias: [
      { find: /^nestjs-mailroom$/, replacement: fileURLToPath(new URL('./lib/index.ts', import.meta.url)) },
      { find: /^nestjs-mailroom\/webhooks$/, replacement: fileURLToPath(new URL('./lib/webhooks.ts', import.meta.url)) },
      { find: /^nestjs-mailroom\/preview$/, replacement: fileURLToPath(new URL('./lib/preview/index.ts', import.meta.url)) },
      { find: /^nestjs-mailroom\/testing$/, replacement: fileURLToPath(new URL('./lib/testing/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
