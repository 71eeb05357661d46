import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'element-plus/dist/index.css'
import './styles.css'
import App from './App.vue'
import { router } from './router'
import { i18n, locale } from './i18n'
import { configure } from './api/client'
import { useSession } from './stores/session'
import { useMeta } from './stores/meta'

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
    const cur = router.currentRoute.value
    if (!cur.meta.public) {
      router.push({ name: 'login', query: { redirect: cur.fullPath, ...(wasSignedIn ? { ended: '1' } : {}) } })
    }
  },
})

app.mount('#app')
