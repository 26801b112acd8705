package org.ievirsh.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.ievirsh.support.Commands;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/** DemoIT runs {@code ie-virsh demo} as README tells a newcomer to, from the built jar. */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class DemoIT {
    @Test
    void theDemoTellsItsStoryAndEveryStepConverges() {
        Commands.Result demo = Commands.run(List.of("java", "-jar", System.getProperty("ievirsh.jar"), "demo",
                "--stay", "0s", "--listen", "127.0.0.1:0"));
        assertEquals(0, demo.code(), demo.output());
        assertTrue(demo.output().contains("== Done: every step converged."), demo.output());
        assertTrue(demo.output().matches("(?s).*endpoints: http://127\\.0\\.0\\.1:[1-9][0-9]*/metrics.*"),
                demo.output());
        assertTrue(!demo.output().contains("Exception"), demo.output());
    }
}
