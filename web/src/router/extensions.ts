// Extension points of the generic record screens. A module contributes UI
// to EntityDetail / EntityForm of one entity without a special case there:
// its router file (router/<m>.ts) exports a list of RecordExtension entries
// and this file collects them, as router/modules.ts collects routes (add a
// module's list to `all` below).
//
// Slots and the props each component receives:
//   'detail-actions'  EntityDetail's toolbar (beside the edit button), for a
//                     record not in the bin: { entity, record }; emit 'done'
//                     to have the record reloaded.
//   'detail-top'      EntityDetail, above the tabs: { entity, record }, 'done'.
//   'form-top'        EntityForm, above the fields: { entity, record, values }
//                     — record is null when creating; values is the form's
//                     live (reactive) values, to be read, never written.
//   'overview'        an entity's overview page (the account 360° page),
//                     below its own sections: { entity, record }.
// Components are loaded only when a screen of their entity is shown.
//
// `actions` names declared actions of the entity (metadata `actions`) that
// the component gives a control of its own (a dialog asking for input):
// the generic action button (components/transfer/RecordActions.vue) is then
// left out.
import { defineAsyncComponent, type Component } from 'vue'
import { crmExtensions } from './crm'
import { quotingExtensions } from './quoting'
import { printingExtensions } from './printing'

export type ExtensionSlot = 'detail-actions' | 'detail-top' | 'form-top' | 'overview'

/** A module's contribution to a generic record screen. */
export interface RecordExtension {
  /** The entity whose screens show it ('*': every entity's). */
  entity: string
  slot: ExtensionSlot
  /** The component, loaded lazily: () => import('@/components/<m>/X.vue'). */
  component: () => Promise<Component | { default: Component }>
  /** Declared actions of the entity this component has a control for. */
  actions?: string[]
}

interface Loaded extends RecordExtension {
  key: string
  view: Component
}

const all: Loaded[] = [...crmExtensions, ...quotingExtensions, ...printingExtensions].map((x, i) => ({
  ...x,
  key: `${x.entity}-${x.slot}-${i}`,
  view: defineAsyncComponent(x.component as () => Promise<Component>),
}))

/** The components registered for an entity's slot, in registration order. */
export function recordExtensions(entity: string | undefined, slot: ExtensionSlot): Loaded[] {
  return entity ? all.filter((x) => (x.entity === entity || x.entity === '*') && x.slot === slot) : []
}

/** The declared actions of an entity that a registered component handles. */
export function handledActions(entity: string): Set<string> {
  return new Set(all.filter((x) => x.entity === entity).flatMap((x) => x.actions ?? []))
}
