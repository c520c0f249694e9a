package main

import (
	"log/slog"
	"slices"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/triage"
)

// urgencies are the levels in the order operators read them.
var urgencies = []triage.Urgency{triage.Critical, triage.High, triage.Normal, triage.Low}

// tipsReceived counts stored tips by channel and the urgency they were
// rated on the request path. It counts each tip once, when intake hands it
// to the queue; it never labels by anything a reporter wrote.
func tipsReceived(reg prometheus.Registerer) (func(intake.Channel, triage.Urgency), error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tipline_tips_received_total",
		Help: "Tips stored, once each, by channel (web, api, sms) and the urgency rated at intake (critical, high, normal, low).",
	}, []string{"channel", "urgency"})
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	// Every series from the start, so rate() over a quiet hour reads 0.
	for _, ch := range []intake.Channel{intake.ChannelWeb, intake.ChannelAPI, intake.ChannelSMS} {
		for _, u := range urgencies {
			c.WithLabelValues(string(ch), string(u))
		}
	}
	return func(ch intake.Channel, u triage.Urgency) { c.WithLabelValues(string(ch), string(u)).Inc() }, nil
}

// queueCollector reports asynq's queues as the Inspector sees them at
// scrape time: the queues live in Redis and are shared by every process,
// so any process answers for all of them and nothing is kept in memory.
type queueCollector struct {
	insp *asynq.Inspector
	log  *slog.Logger

	size, latency, paused, processed, failed *prometheus.Desc
	up                                       *prometheus.Desc
}

// newQueueCollector returns a collector that asks insp on every scrape.
func newQueueCollector(insp *asynq.Inspector, log *slog.Logger) *queueCollector {
	return &queueCollector{
		insp: insp, log: log,
		size: prometheus.NewDesc("tipline_queue_tasks",
			"Tasks in a queue by state (aggregating, pending, active, scheduled, retry, archived, completed).", []string{"queue", "state"}, nil),
		latency: prometheus.NewDesc("tipline_queue_latency_seconds",
			"How long the oldest pending task of a queue has waited: the age of the queue.", []string{"queue"}, nil),
		paused: prometheus.NewDesc("tipline_queue_paused",
			"1 when a queue is paused (asynq's inspector), else 0.", []string{"queue"}, nil),
		processed: prometheus.NewDesc("tipline_queue_processed_today",
			"Tasks a queue processed today (UTC), as asynq counts them.", []string{"queue"}, nil),
		failed: prometheus.NewDesc("tipline_queue_failed_today",
			"Task runs that failed today (UTC), as asynq counts them; retried tasks count each time.", []string{"queue"}, nil),
		up: prometheus.NewDesc("tipline_queue_inspector_up",
			"1 when the queues could be read from Redis at this scrape.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.size, c.latency, c.paused, c.processed, c.failed, c.up} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. Tipline's four queues are
// always reported, with zeros before a queue is first used.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	names, err := c.insp.Queues()
	if err != nil {
		c.log.Warn("metrics: list queues", "err", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	known := slices.Clone(names)
	for _, u := range urgencies {
		if !slices.Contains(names, string(u)) {
			names = append(names, string(u))
		}
	}
	up := 1.0
	for _, q := range names {
		info, err := &asynq.QueueInfo{Queue: q}, error(nil)
		if slices.Contains(known, q) { // asking about a queue never used is an error
			info, err = c.insp.GetQueueInfo(q)
		}
		if err != nil {
			c.log.Warn("metrics: queue info", "queue", q, "err", err)
			up = 0
			continue
		}
		for state, n := range map[string]int{
			"aggregating": info.Aggregating, "pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed,
		} {
			ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(n), q, state)
		}
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, info.Latency.Seconds(), q)
		paused := 0.0
		if info.Paused {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, paused, q)
		ch <- prometheus.MustNewConstMetric(c.processed, prometheus.GaugeValue, float64(info.Processed), q)
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, float64(info.Failed), q)
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
}
