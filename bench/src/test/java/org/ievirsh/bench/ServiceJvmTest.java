package org.ievirsh.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.util.List;
import org.ievirsh.support.Repo;
import org.junit.jupiter.api.Test;

/** The benchmarks start their JVMs as the service does: with the options of its systemd unit. */
class ServiceJvmTest {
    @Test
    void coldBenchUsesTheUnitsJavaToolOptions() throws Exception {
        String prefix = "Environment=JAVA_TOOL_OPTIONS=";
        List<String> lines = Files.readAllLines(Repo.path("examples/ie-virsh-controller.service")).stream()
                .filter(l -> l.startsWith(prefix)).toList();
        assertEquals(1, lines.size(), "one JAVA_TOOL_OPTIONS in the unit");
        // systemd's Environment= escapes a space inside the value as "\ ".
        List<String> options = List.of(lines.get(0).substring(prefix.length()).split("\\\\ "));
        assertEquals(options, ColdBench.SERVICE_JVM);
    }
}
