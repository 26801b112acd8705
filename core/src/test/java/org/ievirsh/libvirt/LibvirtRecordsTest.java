package org.ievirsh.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** LibvirtRecordsTest: libvirt's bulk statistics read in the controller's terms. */
class LibvirtRecordsTest {
    private static VirtExtras.Record record(Map<String, Number> values) {
        return new VirtExtras.Record("uuid-1", "alice-web", values);
    }

    @Test
    void aDomainsStateAndWhyItIsOff() {
        assertEquals(new DomainSummary("uuid-1", "alice-web", DomainState.RUNNING, StopReason.UNKNOWN),
                LibvirtRecords.summary(record(Map.of("state.state", 1, "state.reason", 1))));
        assertEquals(new DomainSummary("uuid-1", "alice-web", DomainState.SHUTOFF, StopReason.DESTROYED),
                LibvirtRecords.summary(record(Map.of("state.state", 5, "state.reason", 2))));
        assertEquals(StopReason.CRASHED, LibvirtRecords.summary(record(Map.of("state.state", 6))).stopReason());
        assertEquals(DomainState.NOSTATE, LibvirtRecords.summary(record(Map.of())).state(), "nothing said");
    }

    @Test
    void memoryIsTheBalloonsRssElseItsSizeInBytes() {
        assertEquals(new DomainUsage("uuid-1", 7L, 2048L * 1024),
                LibvirtRecords.usage(record(Map.of("cpu.time", 7L, "balloon.rss", 2048, "balloon.current", 4096))));
        assertEquals(4096L * 1024, LibvirtRecords.usage(record(Map.of("balloon.current", 4096))).memoryBytes());
    }
}
