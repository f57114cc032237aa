import { defineConfig } from 'vite';

// `vite build web` → web/dist, served by `runlens serve`. Relative asset paths, no CDN:
// plotly.js-dist-min is bundled into its own chunk.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 5000,
    rollupOptions: {
      output: {
        manualChunks: (id) => (id.includes('plotly.js-dist-min') ? 'plotly' : undefined),
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8477' } },
});
