import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'element-plus/theme-chalk/base.css'
import 'element-plus/es/components/loading/style/css'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import './styles.css'
import App from './App.vue'
import { router } from './router'
import { i18n, locale } from './i18n'
import { configure } from './api/client'
import { useSession } from './stores/session'
import { useMeta } from './stores/meta'
import { useViews } from './stores/views'
import { useOptionSources } from './stores/options'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)
app.use(router)

configure({
  locale: () => locale.value,
  onUnauthenticated: () => {
    const session = useSession()
    const wasSignedIn = !!session.me
    session.clear()
    useMeta(pinia).reset()
    useViews(pinia).reset()
    useOptionSources(pinia).reset()
    const cur = router.currentRoute.value
    if (!cur.meta.public) {
      router.push({ name: 'login', query: { redirect: cur.fullPath, ...(wasSignedIn ? { ended: '1' } : {}) } })
    }
  },
})

// Fetch the first screen's code now, beside the sign-in check, rather than
// after it (the router would ask for it once its guard has run).
for (const r of router.resolve(location.pathname + location.search).matched) {
  const c = r.components?.default
  if (typeof c === 'function') void (c as () => Promise<unknown>)()
}

app.mount('#app')
