package main

import (
	"fmt"
	"time"
)

// cpuCell renders a point's CPU per call, "server · bench" in µs (server
// "—" for points run in this process); for calls of more than one value
// it adds the same per value.
func cpuCell(s *stats) string {
	if s.calls == 0 {
		return "—"
	}
	sc, bc := s.cpuPerCall()
	server := "—"
	if s.hasServerCPU {
		server = us(sc)
	}
	cell := server + " · " + us(bc)
	if s.values > s.calls {
		perValue := "—"
		if s.hasServerCPU {
			perValue = fmt.Sprintf("%.1f", float64(s.serverCPU)/1e3/float64(s.values))
		}
		cell += fmt.Sprintf(" (%s · %.1f per value)", perValue, float64(s.benchCPU)/1e3/float64(s.values))
	}
	return cell
}

func us(d time.Duration) string { return num(float64(d) / 1e3) }

// floorTable is the report's floors: the same kinds of work done by the
// least that can do them on this machine, measured in the same rounds.
func (r *report) floorTable(w func(string, ...any)) {
	w("Floors in this run, measured in the same rounds: what this machine does at all for the same kind of work. The durable floor is the bare grpc-go server with a hand-written unary method that appends %d bytes per call to a file on the data disk through one writer goroutine, which writes and fdatasyncs each group of waiting calls and answers them after the sync (2 files: two files written and synced side by side per group, as the sidecar's audit log and store WAL are). The batch floors: Badger alone with store/badger's options, in a child process of the bench (its server CPU), and PostgreSQL alone through pgx from the bench on the run's server (a table with only a primary key; its server CPU is the connection's backend process).", floorPayload)
	w("")
	w("| floor | clients | values/s | p50 ms | p99 ms | CPU µs/call server · bench | compared with | ratio |")
	w("|---|---|---|---|---|---|---|---|")
	for _, files := range []int{1, 2} {
		for _, c := range []int{1, 8} {
			f, bare := r.get(fmt.Sprintf("floor/sync%d/%d", files, c)), r.get(fmt.Sprintf("empty/bare/%d", c))
			w("| bare grpc-go + group-committed fdatasync, %d file%s | %d | %s | %s | %s | %s | bare empty call | %s |", files, plural(files), c,
				num(f.rate()), ms(f.pct(.5)), ms(f.pct(.99)), cpuCell(f), ratio(f.rate(), bare.rate()))
		}
	}
	enc, dec := r.get(fmt.Sprintf("enc/transit/%d/1", batch)), r.get(fmt.Sprintf("dec/transit/%d/1", batch))
	for _, f := range []struct {
		key, what string
		transit   *stats
		verb      string
	}{
		{"floor/badger/write/1000/1", "Badger alone: 1,000 random keys (16 B, 90 B values) in one transaction, one WAL fdatasync", enc, "encrypt"},
		{"floor/badger/read/1000/1", "Badger alone: 1,000 random keys of a preloaded set in one read transaction, in key order on every core", dec, "decrypt"},
		{"floor/badger/read1/1000/1", "Badger alone: the same on one goroutine", dec, "decrypt"},
		{"floor/pg/copy/1000/1", "PostgreSQL alone: binary COPY of 1,000 rows (primary key only), committed", enc, "encrypt"},
		{"floor/pg/any/1000/1", "PostgreSQL alone: `SELECT … WHERE id = ANY($1)` of 1,000 preloaded keys", dec, "decrypt"},
	} {
		s := r.get(f.key)
		w("| %s | 1 | %s | %s | %s | %s | Transit `batch_input` %s, 1 caller | %s |", f.what,
			num(s.rate()), ms(s.pct(.5)), ms(s.pct(.99)), cpuCell(s), f.verb, ratio(s.rate(), f.transit.rate()))
	}
	w("")
	one1, two1, one8, two8 := r.get("floor/sync1/1"), r.get("floor/sync2/1"), r.get("floor/sync1/8"), r.get("floor/sync2/8")
	w("One sync per group instead of two (1 file ÷ 2 files): 1 client %s× the calls/s (p50 %s ms against %s ms), 8 clients %s×.",
		ratio(one1.rate(), two1.rate()), ms(one1.pct(.5)), ms(two1.pct(.5)), ratio(one8.rate(), two8.rate()))
	w("")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
