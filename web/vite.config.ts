import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import ElementPlus from 'unplugin-element-plus/vite'
import { fileURLToPath, URL } from 'node:url'

// The Element Plus components of the first page: those the sign-in screen,
// the shell and the list screen import (views/LoginView.vue, layouts/,
// views/EntityList.vue and the components it mounts at once, App.vue,
// main.ts), with the components they import in turn. scripts/size.mjs fails the build check when a `ui-more` file is
// among the first page's JavaScript, i.e. when this list misses one.
const FIRST_PAGE_UI = [
  'alert', 'avatar', 'badge', 'button', 'checkbox', 'collapse-transition', 'collection', 'config-provider', 'dialog',
  'drawer', 'dropdown', 'empty', 'focus-trap', 'form', 'icon', 'image', 'image-viewer', 'input', 'loading', 'menu',
  'message', 'message-box', 'notification', 'overlay', 'pagination', 'popover', 'popper', 'progress', 'rate', 'result',
  'radio', 'roving-focus-group', 'scrollbar', 'select', 'slot', 'switch', 'tag', 'tooltip',
  // the style folders of their parts
  'checkbox-button', 'checkbox-group', 'dropdown-item', 'dropdown-menu', 'form-item', 'menu-item', 'menu-item-group',
  'option', 'option-group', 'radio-button', 'radio-group', 'sub-menu',
]
const uiLibrary =
  /node_modules[\\/](element-plus|@element-plus|lodash-es|lodash-unified|@floating-ui|@popperjs|@ctrl|@vueuse|async-validator|dayjs|memoize-one|normalize-wheel-es|escape-html)[\\/]/
const elementPlusComponent = /node_modules[\\/]element-plus[\\/]es[\\/]components[\\/]([a-z-]+)[\\/]/
const elementPlusRest = (id: string): boolean => {
  const m = elementPlusComponent.exec(id)
  return m !== null && !FIRST_PAGE_UI.includes(m[1])
}

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
            { name: 'vue', test: /node_modules[\\/](@vue|vue|vue-router|pinia|vue-i18n|@intlify)[\\/]/, priority: 3 },
            // Element Plus and its helpers, but for the components no
            // screen of a list's first page uses (with what they import:
            // a group takes its modules' dependencies).
            { name: 'ui', test: (id: string) => uiLibrary.test(id) && !elementPlusRest(id), priority: 2 },
            // Those components: one chunk, loaded with the first screen
            // that needs one of them (a form, the flow designer).
            { name: 'ui-more', test: elementPlusRest, priority: 1 },
          ],
        },
      },
    },
  },
})
