package org.ievirsh.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.ievirsh.status.StatusFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** DumpxmlCommand prints the domain XML the controller defined for the VM. */
@Command(name = "dumpxml", mixinStandardHelpOptions = true,
        header = "Print the domain XML the controller defined for a VM.",
        description = "Print the libvirt domain XML the controller defined for NAME (.status/NAME.xml).",
        footer = {"", "Example:", "  ie-virsh dumpxml web", "", "Exit codes: 0 printed, 1 not defined yet."})
final class DumpxmlCommand implements Callable<Integer> {
    @Mixin
    StudentOptions options;

    @Parameters(paramLabel = "NAME", description = "The VM.")
    String name;

    @Override
    public Integer call() throws IOException, StudentOptions.StudentError {
        Path file = options.existingDirectory().resolve(StatusFiles.DIRECTORY).resolve(StatusFiles.xmlName(name));
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            Path dir = options.existingDirectory();
            if (!StatusReader.hasFile(dir, name) && StatusReader.read(dir, name).isEmpty()) {
                System.err.println("ie-virsh: there is no VM " + name + " (ie-virsh list shows your VMs)");
            } else {
                System.err.println("ie-virsh: " + name + " has no domain XML yet (ie-virsh status " + name
                        + " says why)");
            }
            return 1;
        }
        System.out.print(Files.readString(file));
        return 0;
    }
}
