package org.ievirsh.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Repo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * ClassArchiveIT runs the service's wrapper, examples/bin/ie-virsh-controller,
 * on an installed copy of the jar: {@code --class-archive} writes the archive
 * once per jar, the controller's JVM maps its classes from it, and a jar
 * newer than the archive is started without it until the archive is made
 * again.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class ClassArchiveIT {
    private static final String FROM_ARCHIVE = "org.ievirsh.cli.Main source: shared objects file (top)";
    private static final String FROM_JAR = "org.ievirsh.cli.Main source: file:";

    @TempDir
    Path home;

    private Commands.Result wrapper(String... args) {
        List<String> command = new ArrayList<>(List.of("sh", Repo.path("examples/bin/ie-virsh-controller").toString()));
        command.addAll(List.of(args));
        // Which file each class came from, on standard output (the wrapper passes the environment on).
        return Commands.run(command, Map.of("IE_VIRSH_HOME", home.toString(), "IE_VIRSH_CACHE", home.toString(),
                "JAVA_TOOL_OPTIONS", "-XX:+UseSerialGC -Xlog:class+load=info:stdout"));
    }

    @Test
    void theWrapperMakesTheArchiveOncePerJarAndTheControllerMapsItsClassesFromIt() throws Exception {
        Path jar = Files.copy(Path.of(System.getProperty("ievirsh.jar")), home.resolve("ie-virsh.jar"));
        Path archive = home.resolve("controller.jsa");

        Commands.Result none = wrapper("--help");
        assertEquals(0, none.code(), none.output());
        assertTrue(none.output().contains(FROM_JAR) && none.output().contains("--config"), none.output());

        Commands.Result made = wrapper("--class-archive");
        assertEquals(0, made.code(), made.output());
        assertTrue(Files.size(archive) > 1 << 20, "an archive of " + Files.size(archive) + " bytes");
        FileTime madeAt = Files.getLastModifiedTime(archive);
        try (var left = Files.list(home)) {
            assertEquals(List.of("controller.jsa", "ie-virsh.jar"),
                    left.map(p -> p.getFileName().toString()).sorted().toList(), "nothing else left behind");
        }

        Commands.Result mapped = wrapper("--help");
        assertEquals(0, mapped.code(), mapped.output());
        assertTrue(mapped.output().contains(FROM_ARCHIVE), mapped.output());

        Commands.Result again = wrapper("--class-archive");
        assertEquals(0, again.code(), again.output());
        assertEquals(madeAt, Files.getLastModifiedTime(archive), "an archive newer than the jar is kept");

        // A new jar: its classes are not the archive's, so it starts without it until the archive is made again.
        Files.setLastModifiedTime(jar, FileTime.fromMillis(madeAt.toMillis() + 5_000));
        Commands.Result stale = wrapper("--help");
        assertEquals(0, stale.code(), stale.output());
        assertTrue(stale.output().contains(FROM_JAR), stale.output());
        assertFalse(stale.output().contains("shared objects file (top)"), stale.output());
        Commands.Result remade = wrapper("--class-archive");
        assertEquals(0, remade.code(), remade.output());
        assertTrue(Files.getLastModifiedTime(archive).compareTo(Files.getLastModifiedTime(jar)) > 0);
        assertTrue(wrapper("--help").output().contains(FROM_ARCHIVE));
    }
}
