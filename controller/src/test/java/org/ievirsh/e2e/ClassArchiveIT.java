package org.ievirsh.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

    private record Run(int code, String output) {
    }

    private Run wrapper(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("sh",
                Repo.path("examples/bin/ie-virsh-controller").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("IE_VIRSH_HOME", home.toString());
        // Which file each class came from, on standard output (the wrapper passes the environment on).
        builder.environment().put("JAVA_TOOL_OPTIONS", "-XX:+UseSerialGC -Xlog:class+load=info:stdout");
        Process p = builder.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), "the wrapper did not finish");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    @Test
    void theWrapperMakesTheArchiveOncePerJarAndTheControllerMapsItsClassesFromIt() throws Exception {
        Path jar = Files.copy(Path.of(System.getProperty("ievirsh.jar")), home.resolve("ie-virsh.jar"));
        Path archive = home.resolve("controller.jsa");

        Run none = wrapper("--help");
        assertEquals(0, none.code(), none.output());
        assertTrue(none.output().contains(FROM_JAR) && none.output().contains("--config"), none.output());

        Run made = wrapper("--class-archive");
        assertEquals(0, made.code(), made.output());
        assertTrue(Files.size(archive) > 1 << 20, "an archive of " + Files.size(archive) + " bytes");
        FileTime madeAt = Files.getLastModifiedTime(archive);
        try (var left = Files.list(home)) {
            assertEquals(List.of("controller.jsa", "ie-virsh.jar"),
                    left.map(p -> p.getFileName().toString()).sorted().toList(), "nothing else left behind");
        }

        Run mapped = wrapper("--help");
        assertEquals(0, mapped.code(), mapped.output());
        assertTrue(mapped.output().contains(FROM_ARCHIVE), mapped.output());

        Run again = wrapper("--class-archive");
        assertEquals(0, again.code(), again.output());
        assertEquals(madeAt, Files.getLastModifiedTime(archive), "an archive newer than the jar is kept");

        // A new jar: its classes are not the archive's, so it starts without it until the archive is made again.
        Files.setLastModifiedTime(jar, FileTime.fromMillis(madeAt.toMillis() + 5_000));
        Run stale = wrapper("--help");
        assertEquals(0, stale.code(), stale.output());
        assertTrue(stale.output().contains(FROM_JAR), stale.output());
        assertFalse(stale.output().contains("shared objects file (top)"), stale.output());
        Run remade = wrapper("--class-archive");
        assertEquals(0, remade.code(), remade.output());
        assertTrue(Files.getLastModifiedTime(archive).compareTo(Files.getLastModifiedTime(jar)) > 0);
        assertTrue(wrapper("--help").output().contains(FROM_ARCHIVE));
    }
}
