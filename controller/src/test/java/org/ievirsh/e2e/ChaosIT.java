package org.ievirsh.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ievirsh.support.Repo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * ChaosIT is a short run of {@code bench chaos} under {@code ./dev test}: a
 * minute of faults (the leader killed, libvirtds restarted, blades frozen
 * and drained, configs reloaded, directories unreadable) on ./dev test's
 * two blades while six real students edit; no invariant may break, and
 * every file must converge within 60 s of the last fault. Its report
 * (faults by kind, checks, the seed) is printed; the run's logs stay in
 * /tmp/ie-virsh-chaos-SEED.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class ChaosIT {

    @Test
    void aMinuteOfFaultsBreaksNoInvariantAndEveryFileConverges() throws Exception {
        Path log = Path.of("target", "ChaosIT.log");
        String blades = "ievb2=" + Host.bladeUri("ievirsh.blade2") + ",ievb3=" + Host.bladeUri("ievirsh.blade3");
        Process bench = new ProcessBuilder("java", "-jar", System.getProperty("ievirsh.jar"), "bench", "chaos",
                "--minutes", "1", "--students", "6", "--blades", blades, "--blades-script",
                Repo.path(".ci/blades.sh").toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try {
            assertTrue(bench.waitFor(10, TimeUnit.MINUTES), "bench chaos ended");
        } finally {
            if (bench.isAlive()) {
                bench.destroyForcibly().waitFor(1, TimeUnit.MINUTES);
            }
            // Whatever happened, no blade stays frozen for the tests after this one.
            org.ievirsh.support.Commands.run(java.util.List.of(Repo.path(".ci/blades.sh").toString(), "thaw",
                    "ievb2", "ievb3"));
        }
        String report = Files.readString(log);
        System.out.println(report);
        assertTrue(report.contains("\nviolations 0\n"), report);
        Matcher faults = Pattern.compile("faults +(\\d+) injected").matcher(report);
        assertTrue(faults.find() && Integer.parseInt(faults.group(1)) >= 5, "faults came: " + report);
        assertTrue(report.contains("KEPT    no invariant broken"), report);
        assertEquals(0, bench.exitValue(), report);
    }
}
