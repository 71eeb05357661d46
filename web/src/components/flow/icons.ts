// Icons of the node types (palette and canvas).
import type { Component } from 'vue'
import { VideoPlay, Stamp, Guide, Share, Connection, Message, MagicStick, CircleCheck } from '@element-plus/icons-vue'
import type { NodeType } from '@/api/flow'

const ICONS: Record<NodeType, Component> = {
  start: VideoPlay,
  approval: Stamp,
  condition: Guide,
  split: Share,
  join: Connection,
  cc: Message,
  action: MagicStick,
  end: CircleCheck,
}

export function nodeIcon(type: NodeType): Component {
  return ICONS[type] ?? Stamp
}
