// GET /metrics: the flow meters (through rxjs-backpressure/opentelemetry), the breaker's state and
// the answers by status, in Prometheus's text format. The exporter does not start a server of its
// own: the service's server answers GET /metrics with the text collected here. With --instances N,
// each worker labels its series with service_instance_id, and the primary merges the workers' texts
// (mergePrometheusTexts) so that one scrape shows the whole service.
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { registerFlowMetrics } from 'rxjs-backpressure/opentelemetry';

const CONSTANT_LABELS = /^service\.instance\.id$/;
const BREAKER_STATES = ['closed', 'open', 'half-open', 'isolated'];

export function createMetrics({ instanceId, flowMeters, breaker }) {
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    withResourceConstantLabels: CONSTANT_LABELS,
  });
  const serializer = new PrometheusSerializer(undefined, false, CONSTANT_LABELS);
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': 'rxjs-backpressure-node-service',
      'service.instance.id': instanceId,
    }),
    readers: [exporter],
  });
  const meter = provider.getMeter('node-service');
  const registration = registerFlowMetrics(meter, flowMeters);

  meter
    .createObservableGauge('circuit_breaker.state', {
      description: "1 for the downstream breaker's current state, 0 for the others.",
    })
    .addCallback((result) => {
      const now = breaker?.state;
      for (const state of BREAKER_STATES) {
        result.observe(state === now ? 1 : 0, {
          'circuit_breaker.name': 'downstream',
          'circuit_breaker.state': state,
        });
      }
    });
  const responses = meter.createCounter('http.server.event_responses', {
    description: 'Answers to POST /events, by status and outcome.',
  });

  return {
    /** Counts one answer to POST /events. */
    countResponse(status, outcome) {
      responses.add(1, { 'http.response.status_code': status, 'event.outcome': outcome });
    },
    /** This process's metrics as Prometheus text. */
    async text() {
      const { resourceMetrics } = await exporter.collect();
      return serializer.serialize(resourceMetrics);
    },
    async shutdown() {
      registration.unregister();
      await provider.shutdown();
    },
  };
}

/**
 * Merges the Prometheus texts of several processes into one exposition: each metric family's
 * HELP/UNIT/TYPE lines once, followed by every process's samples (told apart by their
 * service_instance_id label).
 */
export function mergePrometheusTexts(texts) {
  const families = new Map();
  const familyOf = (name) => {
    let family = families.get(name);
    if (!family) families.set(name, (family = { header: [], samples: [] }));
    return family;
  };
  for (const text of texts) {
    let current;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const header = /^# (HELP|UNIT|TYPE) (\S+)/.exec(line);
      if (header) {
        current = familyOf(header[2]);
        const key = `${header[1]} ${header[2]}`;
        if (current.header.length < 3 && !current.header.some((h) => h.startsWith(`# ${key}`))) {
          current.header.push(line);
        }
      } else if (current) {
        current.samples.push(line);
      }
    }
  }
  let out = '';
  for (const { header, samples } of families.values()) out += [...header, ...samples].join('\n') + '\n';
  return out;
}
