import { locale } from '@/i18n'

/**
 * stageName is a pipeline stage's name in the app's language: its English
 * name when the app is in English and the stage has one, else its name.
 */
export function stageName(s: { name: string; name_en?: string | null }): string {
  return locale.value === 'en' && s.name_en ? s.name_en : s.name
}
