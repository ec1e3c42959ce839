/**
 * `rxjs-backpressure/opentelemetry`: FlowMeter figures as OpenTelemetry metrics, kept out of the main
 * entry. Needs the optional peer dependency `@opentelemetry/api` (>=1.9.0 <2) for its types only.
 * @module rxjs-backpressure/opentelemetry
 */

export {
  registerFlowMetrics,
  FLOW_ATTRIBUTE,
  DROP_REASON_ATTRIBUTE,
  QUANTILE_ATTRIBUTE,
} from './registerFlowMetrics.js';
export type { FlowMetricsRegistration } from './registerFlowMetrics.js';
