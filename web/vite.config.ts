import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import ElementPlus from 'unplugin-element-plus/vite'
import { fileURLToPath, URL } from 'node:url'

// The app is served by the Go binary from web/dist (see embed.go). In
// development Vite serves it and forwards /api to a running `tenon serve`.
const api = process.env.TENON_API ?? 'http://127.0.0.1:8090'

export default defineConfig({
  // Element Plus styles are imported per component beside the component's
  // import, so a screen loads the CSS of what it uses (the whole stylesheet,
  // 360 KB, blocked the first paint). v-loading has no El name: its style is
  // imported in main.ts.
  plugins: [vue(), ElementPlus({})],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    __VUE_OPTIONS_API__: 'true',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'false',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  server: {
    port: 5173,
    proxy: { '/api': { target: api, changeOrigin: false } },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    // The server reads the manifest to name a deep link's chunks in the page
    // it serves (see preload.go), so they load beside the entry.
    manifest: true,
    chunkSizeWarningLimit: 600,
    // Keep the framework in one long-lived chunk so app releases do not
    // invalidate it.
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'vue', test: /node_modules[\\/](@vue|vue|vue-router|pinia|vue-i18n|@intlify)[\\/]/, priority: 2 },
            { name: 'ui', test: /node_modules[\\/](element-plus|@element-plus|lodash-es|lodash-unified|@floating-ui|@popperjs|@ctrl|@vueuse|async-validator|dayjs|memoize-one|normalize-wheel-es|escape-html)[\\/]/, priority: 1 },
          ],
        },
      },
    },
  },
})
