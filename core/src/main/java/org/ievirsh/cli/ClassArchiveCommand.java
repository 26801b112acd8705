package org.ievirsh.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.ievirsh.controller.ClassArchive;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** ClassArchiveCommand writes the controller's class archive (see {@link ClassArchive}); the service's wrapper calls it. */
@Command(name = "class-archive", mixinStandardHelpOptions = true,
        header = "Write the controller's class archive (admins; after installing the jar or a new JDK).",
        description = {"Run the demo on libvirt's test driver in a new JVM and record the classes it loads into",
                "FILE, which the controller's JVM then maps at start instead of reading the jar",
                "(-XX:SharedArchiveFile): the service reaches its first pass sooner. ie-virsh-controller",
                "--class-archive calls it when the archive is missing or older than the jar or the JDK."},
        footer = {"", "Example:", "  java -jar /usr/share/ie-virsh/ie-virsh.jar class-archive /var/cache/ie-virsh/controller.jsa",
                "", "Exit codes: 0 written, 1 the training run failed (its output says why)."})
final class ClassArchiveCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "Where to write the archive (default: ${DEFAULT-VALUE}).",
            defaultValue = "/var/cache/ie-virsh/controller.jsa")
    Path archive;

    @Override
    public Integer call() throws Exception {
        try {
            // The JVM options of the service (JAVA_TOOL_OPTIONS in its unit) reach the training JVM by inheritance.
            ClassArchive.make(List.of(ClassArchive.javaOfThisProgram()), ClassArchive.jarOfThisProgram(), archive);
        } catch (java.io.IOException e) {
            System.err.println("ie-virsh: class-archive: " + e.getMessage());
            return 1;
        }
        System.out.println("wrote " + archive);
        return 0;
    }
}
