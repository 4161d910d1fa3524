import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The console is built into web/dist and served by the gridwall server itself (one port, same origin).
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
