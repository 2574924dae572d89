package dev.tandem.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** What bin/tandem-bench peer reads of wrk's report (wrk 4.1, Debian's). */
class WrkOutputTest {
    static final String REPORT = """
            Running 10s test @ http://127.0.0.1:40000/workflows/ipam/pools/p1/allocations
              2 threads and 8 connections
              Thread Stats   Avg      Stdev     Max   +/- Stdev
                Latency     6.71ms    3.02ms  41.20ms   80.11%
                Req/Sec   600.12     80.20   790.00     70.00%
              Latency Distribution
                 50%  P50
                 75%    7.90ms
                 90%   10.12ms
                 99%  P99
              11950 requests in 10.01s, 2.10MB read
              Socket errors: connect 0, read 1, write 0, timeout 2
              Non-2xx or 3xx responses: 4
            Requests/sec:   1193.81
            Transfer/sec:    214.56KB
            """;

    @Test
    void readsRateLatenciesInAnyUnit_andCountsErrors() {
        PeerBench.Wrk.Result r = PeerBench.Wrk.parse(REPORT.replace("P50", "850.00us").replace("P99", "1.20s"));
        assertThat(r.perSecond()).isEqualTo(1193.81);
        assertThat(r.p50Ms()).isEqualTo(0.85);
        assertThat(r.p99Ms()).isEqualTo(1200.0);
        assertThat(r.errors()).as("non-2xx plus socket errors").isEqualTo(7);
    }

    @Test
    void aReportWithoutItsFiguresSaysWhatItPrinted() {
        assertThatThrownBy(() -> PeerBench.Wrk.parse("unable to connect to 127.0.0.1:1 Connection refused"))
                .hasMessageContaining("wrk printed no").hasMessageContaining("Connection refused");
    }
}
