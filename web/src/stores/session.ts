// The signed-in user: who they are, their roles and the CSRF token the API
// wants on state-changing calls.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { auth, records } from '@/api/endpoints'
import { ApiError, setCsrf } from '@/api/client'
import type { Me } from '@/api/types'
import { locale, setLocale, type Locale } from '@/i18n'

const isLocale = (v: unknown): v is Locale => v === 'zh-CN' || v === 'en'

export const useSession = defineStore('session', () => {
  const me = ref<Me | null>(null)
  const checked = ref(false)

  const user = computed(() => me.value?.user ?? null)
  const isAdmin = computed(() => !!me.value?.admin)
  const displayName = computed(() => String(user.value?.name || user.value?.login || ''))

  function set(m: Me | null) {
    me.value = m
    setCsrf(m?.csrf_token)
  }

  /** load asks the server who is signed in (once, unless forced). */
  async function load(force = false): Promise<boolean> {
    if (checked.value && !force) return !!me.value
    try {
      set(await auth.me())
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) {
        checked.value = true
        throw e
      }
      set(null)
    }
    checked.value = true
    return !!me.value
  }

  /**
   * login signs in. The user's saved language is applied, unless they chose
   * one on the sign-in page (`chosen`), which is then saved as theirs.
   */
  async function login(login: string, password: string, chosen?: Locale): Promise<void> {
    const m = await auth.login(login, password)
    set(m)
    // The login answer has the user but /me has the roles and admin flag.
    set(await auth.me())
    checked.value = true
    const saved = me.value?.user.language
    if (chosen) {
      if (chosen !== saved) void saveLanguage(chosen)
    } else if (isLocale(saved) && saved !== locale.value) {
      setLocale(saved)
    }
  }

  /** saveLanguage switches the UI language and keeps it on the user's record (and in localStorage). */
  async function saveLanguage(l: Locale): Promise<void> {
    setLocale(l)
    const u = me.value?.user
    if (!u || u.language === l) return
    try {
      await records.patch('users', u.id, { language: l })
      u.language = l
    } catch {
      /* the local choice still holds */
    }
  }

  async function logout(): Promise<void> {
    try {
      await auth.logout()
    } finally {
      clear()
    }
  }

  function clear() {
    set(null)
    checked.value = true
  }

  return { me, user, isAdmin, displayName, checked, load, login, logout, clear, saveLanguage }
})
