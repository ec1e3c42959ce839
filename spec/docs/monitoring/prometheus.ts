// prometheus.ts
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { FlowMeter } from 'rxjs-backpressure';
import { registerFlowMetrics } from 'rxjs-backpressure/opentelemetry';

/**
 * Serves the flows' metrics at http://127.0.0.1:<port>/metrics for Prometheus to scrape. The
 * returned function stops serving.
 */
export async function serveFlowMetrics(flows: FlowMeter[], port = 9464): Promise<() => Promise<void>> {
  const exporter = new PrometheusExporter({ host: '127.0.0.1', port, preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const registration = registerFlowMetrics(provider.getMeter('my-service'), flows);
  await exporter.startServer();
  return async () => {
    registration.unregister();
    await provider.shutdown(); // stops the exporter's server too
  };
}
