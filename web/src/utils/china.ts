// China's provincial-level divisions, for the address widget's first level.
// City and district are typed (the metadata carries no option tree yet).
export interface Province {
  name: string
  en: string
}

export const PROVINCES: Province[] = [
  { name: '北京', en: 'Beijing' },
  { name: '天津', en: 'Tianjin' },
  { name: '河北', en: 'Hebei' },
  { name: '山西', en: 'Shanxi' },
  { name: '内蒙古', en: 'Inner Mongolia' },
  { name: '辽宁', en: 'Liaoning' },
  { name: '吉林', en: 'Jilin' },
  { name: '黑龙江', en: 'Heilongjiang' },
  { name: '上海', en: 'Shanghai' },
  { name: '江苏', en: 'Jiangsu' },
  { name: '浙江', en: 'Zhejiang' },
  { name: '安徽', en: 'Anhui' },
  { name: '福建', en: 'Fujian' },
  { name: '江西', en: 'Jiangxi' },
  { name: '山东', en: 'Shandong' },
  { name: '河南', en: 'Henan' },
  { name: '湖北', en: 'Hubei' },
  { name: '湖南', en: 'Hunan' },
  { name: '广东', en: 'Guangdong' },
  { name: '广西', en: 'Guangxi' },
  { name: '海南', en: 'Hainan' },
  { name: '重庆', en: 'Chongqing' },
  { name: '四川', en: 'Sichuan' },
  { name: '贵州', en: 'Guizhou' },
  { name: '云南', en: 'Yunnan' },
  { name: '西藏', en: 'Tibet' },
  { name: '陕西', en: 'Shaanxi' },
  { name: '甘肃', en: 'Gansu' },
  { name: '青海', en: 'Qinghai' },
  { name: '宁夏', en: 'Ningxia' },
  { name: '新疆', en: 'Xinjiang' },
  { name: '香港', en: 'Hong Kong' },
  { name: '澳门', en: 'Macao' },
  { name: '台湾', en: 'Taiwan' },
]

/** Municipalities: the city is the province itself. */
export const MUNICIPALITIES = new Set(['北京', '天津', '上海', '重庆'])
