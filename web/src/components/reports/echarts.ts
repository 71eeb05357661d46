// The parts of ECharts the report charts use, registered once. Only this
// module imports echarts, and only the report screens (lazy route chunks)
// import it, so the library stays out of the first page's JavaScript.
import { use, init, type EChartsType, type EChartsCoreOption } from 'echarts/core'
import { BarChart, LineChart, PieChart, FunnelChart, GaugeChart, HeatmapChart, CustomChart } from 'echarts/charts'
import { GridComponent, TooltipComponent, LegendComponent, VisualMapComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

use([BarChart, LineChart, PieChart, FunnelChart, GaugeChart, HeatmapChart, CustomChart, GridComponent, TooltipComponent, LegendComponent, VisualMapComponent, CanvasRenderer])

export { init }
export type { EChartsType, EChartsCoreOption }
