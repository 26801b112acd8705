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
        assertEquals(96, config.blades().get(2).capacity().orElseThrow().vcpus());
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
}
