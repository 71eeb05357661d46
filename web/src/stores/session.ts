// The signed-in user: who they are, their roles and the CSRF token the API
// wants on state-changing calls.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { auth } from '@/api/endpoints'
import { ApiError, setCsrf } from '@/api/client'
import type { Me } from '@/api/types'

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

  async function login(login: string, password: string): Promise<void> {
    const m = await auth.login(login, password)
    set(m)
    // The login answer has the user but /me has the roles and admin flag.
    set(await auth.me())
    checked.value = true
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

  return { me, user, isAdmin, displayName, checked, load, login, logout, clear }
})
