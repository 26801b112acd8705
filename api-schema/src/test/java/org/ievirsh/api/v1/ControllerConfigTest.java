package org.ievirsh.api.v1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.ievirsh.api.Parsed;
import org.junit.jupiter.api.Test;

class ControllerConfigTest {

    private static Parsed<ControllerConfig> parse(String text) {
        return ControllerConfig.parse("controller.yaml", text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theContractExampleReadsWithEveryField() {
        ControllerConfig config = parse("""
                users:
                  directories: /home/*/ie-virsh
                  minUid: 1000
                images:
                  root: /srv/ie-virsh/images
                templates: /etc/ie-virsh/templates
                defaultTemplate: standard
                quota:
                  default: {vms: 4, runningVms: 4, vcpus: 8, memory: 8GiB}
                  groups: {staff: {vms: 10}}
                  users: {e145701: {vms: 6}}
                blades:
                  - {name: blade01, uri: "qemu:///system", reserved: {vcpus: 2, memory: 4GiB}}
                  - {name: blade02, uri: "qemu+ssh://root@blade02/system", schedulable: false}
                  - {name: blade03, uri: "qemu:///system", capacity: {vcpus: 96, memory: 256GiB}}
                http: {listen: "127.0.0.1:9464"}
                resync: 30s
                stopGracePeriod: 60s
                """).orThrow();
        assertEquals("/home/*/ie-virsh", config.users().directories());
        assertEquals(Path.of("/srv/ie-virsh/images"), config.images().root());
        assertEquals(4, config.quota().defaults().vms().orElseThrow());
        assertEquals(8L << 30, config.quota().defaults().memoryBytes().orElseThrow());
        assertEquals(10, config.quota().groups().get("staff").vms().orElseThrow());
        assertTrue(config.quota().groups().get("staff").vcpus().isEmpty());
        assertEquals(3, config.blades().size());
        assertEquals(new ControllerConfig.Resources(2, 4L << 30), config.blades().get(0).reserved());
        assertFalse(config.blades().get(1).schedulable());
        assertEquals(96, config.blades().get(2).capacity().vcpus().getAsInt());
        assertTrue(config.blades().get(0).capacity().memoryBytes().isEmpty(), "left out: what the blade reports");
        assertEquals(9464, config.http().port());
        assertEquals(Duration.ofSeconds(30), config.resync());
        assertEquals(Duration.ofSeconds(60), config.stopGracePeriod());
    }

    @Test
    void defaultsFillWhatTheFileLeavesOut() {
        ControllerConfig config = parse("blades:\n  - {name: b1, uri: \"test:///default\"}\n").orThrow();
        assertEquals("/home/*/ie-virsh", config.users().directories());
        assertEquals(1000, config.users().minUid());
        assertEquals("standard", config.defaultTemplate());
        assertEquals("127.0.0.1", config.http().host());
        assertEquals(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()), config.workers());
        assertEquals(5, config.deletionGuard().threshold(10));
        assertEquals(100, config.deletionGuard().threshold(1000));
    }

    @Test
    void deletionGuardTakesACountOrAShare() {
        assertEquals(20, parse("deletionGuard: 20\nblades: [{name: b, uri: \"test:///default\"}]\n")
                .orThrow().deletionGuard().threshold(1000));
        assertEquals(5, parse("deletionGuard: 0\nblades: [{name: b, uri: \"test:///default\"}]\n")
                .orThrow().deletionGuard().threshold(1000));
        assertEquals(250, parse("deletionGuard: 25%\nblades: [{name: b, uri: \"test:///default\"}]\n")
                .orThrow().deletionGuard().threshold(1000));
        assertFalse(parse("deletionGuard: lots\nblades: [{name: b, uri: \"test:///default\"}]\n").isOk());
    }

    @Test
    void mistakesArePointedAt() {
        Parsed<ControllerConfig> parsed = parse("blades:\n  - {name: b1, uri: \"test:///default\"}\n"
                + "  - {name: b1, uri: \"test:///default\", cpus: 3}\nresync: soon\n");
        assertFalse(parsed.isOk());
        String all = parsed.problems().toString();
        assertTrue(all.contains("controller.yaml:3:40: blades[1].cpus: unknown field"), all);
        assertTrue(all.contains("controller.yaml:4:9: resync: \"soon\" is not valid"), all);
    }

    @Test
    void duplicateBladeNamesAreRefused() {
        Parsed<ControllerConfig> parsed = parse(
                "blades:\n  - {name: b1, uri: \"test:///default\"}\n  - {name: b1, uri: \"test:///default\"}\n");
        assertFalse(parsed.isOk());
        assertTrue(parsed.problems().get(0).toString().contains("blades[1].name: the blade name b1 is used twice"),
                parsed.problems().toString());
    }

    @Test
    void quantitiesAndDurationsRoundTrip() {
        assertEquals("2GiB", Quantities.format(Quantities.parseBytes("2GiB")));
        assertEquals("1536MiB", Quantities.format(Quantities.parseBytes("1536Mi")));
        assertEquals("30s", Durations.format(Durations.parse("30s")));
        assertEquals("5m", Durations.format(Durations.parse("300s")));
    }

    @Test
    void theWaveTwoSectionsReadAsTheContractWritesThem() {
        ControllerConfig config = parse("""
                blades:
                  - {name: b1, uri: "qemu:///system", drain: true}
                  - {name: b2, uri: "qemu:///system"}
                addresses:
                  sources: [leases, agent]
                  leases: [/var/lib/misc/dnsmasq.leases]
                console: {socket: /run/x.sock, maxSessionsPerUser: 2}
                lockManager: sanlock
                migration: {parallel: 3, bandwidth: 100, timeout: 5m, unsafe: true}
                bladeDown: {action: restartElsewhere, after: 90s}
                ha: {lockFile: /srv/ie-virsh/controller.lock}
                lifecycle:
                  warnBefore: 7d
                  groups:
                    os2026: {expires: 2027-02-15}
                    net2026: {expires: 2027-03-01}
                  users:
                    e145701: {expires: 2027-03-31}
                    forever: {expires: null}
                  default: {expires: null}
                """).orThrow();
        assertTrue(config.blades().get(0).drain());
        assertFalse(config.blades().get(0).schedulable(), "drain implies schedulable: false");
        assertTrue(config.blades().get(1).schedulable());
        assertEquals(java.util.List.of("leases", "agent"), config.addresses().sources());
        assertEquals(java.util.List.of(Path.of("/var/lib/misc/dnsmasq.leases")), config.addresses().leases());
        assertEquals(Path.of("/run/x.sock"), config.console().socket());
        assertEquals(2, config.console().maxSessionsPerUser());
        assertEquals("sanlock", config.lockManager());
        assertEquals(3, config.migration().parallel());
        assertEquals(100, config.migration().bandwidthMiBs().getAsLong());
        assertEquals(Duration.ofMinutes(5), config.migration().timeout());
        assertTrue(config.migration().unsafe());
        assertTrue(config.bladeDown().restartElsewhere());
        assertEquals(Duration.ofSeconds(90), config.bladeDown().after());
        assertEquals(Path.of("/srv/ie-virsh/controller.lock"), config.ha().orElseThrow().lockFile());
        assertEquals(Duration.ofDays(7), config.lifecycle().warnBefore());
        java.time.ZoneId utc = java.time.ZoneOffset.UTC;
        ControllerConfig.Lifecycle lifecycle = config.lifecycle();
        assertEquals(java.util.Optional.of(java.time.Instant.parse("2027-04-01T00:00:00Z")),
                lifecycle.expiryOf("e145701", java.util.List.of("os2026"), utc).map(e -> e.at(utc)), "the user's entry wins");
        assertEquals(java.util.Optional.of(java.time.Instant.parse("2027-03-02T00:00:00Z")),
                lifecycle.expiryOf("x", java.util.List.of("os2026", "net2026", "other"), utc).map(e -> e.at(utc)),
                "the latest group");
        assertEquals(java.util.Optional.empty(), lifecycle.expiryOf("forever", java.util.List.of("os2026"), utc));
        assertEquals(java.util.Optional.empty(), lifecycle.expiryOf("y", java.util.List.of(), utc), "default: never");
    }

    @Test
    void theWaveTwoDefaultsAreTheContracts() {
        ControllerConfig config = parse("blades:\n  - {name: b1, uri: \"test:///default\"}\n").orThrow();
        assertEquals(java.util.List.of("leases", "agent", "arp"), config.addresses().sources());
        assertEquals(java.util.List.of(), config.addresses().leases());
        assertEquals(Path.of("/run/ie-virsh/console.sock"), config.console().socket());
        assertEquals(4, config.console().maxSessionsPerUser());
        assertEquals("none", config.lockManager());
        assertEquals(2, config.migration().parallel());
        assertTrue(config.migration().bandwidthMiBs().isEmpty());
        assertEquals(Duration.ofMinutes(10), config.migration().timeout());
        assertFalse(config.migration().unsafe());
        assertFalse(config.bladeDown().restartElsewhere());
        assertEquals(Duration.ofMinutes(2), config.bladeDown().after());
        assertTrue(config.ha().isEmpty());
        assertEquals(Duration.ofDays(7), config.lifecycle().warnBefore());
    }

    @Test
    void restartElsewhereWithoutALockManagerIsRefused() {
        Parsed<ControllerConfig> parsed = parse("blades:\n  - {name: b1, uri: \"test:///default\"}\n"
                + "bladeDown: {action: restartElsewhere}\n");
        assertFalse(parsed.isOk());
        assertTrue(parsed.problems().toString().contains("controller.yaml:3:21: bladeDown.action: restartElsewhere"
                + " needs lockManager sanlock or lockd"), parsed.problems().toString());
        Parsed<ControllerConfig> badDate = parse("blades:\n  - {name: b1, uri: \"test:///default\"}\n"
                + "lifecycle:\n  groups:\n    os: {expires: 2027-02-30}\n");
        assertFalse(badDate.isOk());
        assertTrue(badDate.problems().toString().contains("lifecycle.groups.os.expires: 2027-02-30 is not a date"),
                badDate.problems().toString());
    }
}
