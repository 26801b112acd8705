package org.ievirsh.cli;

import java.util.Map;
import picocli.CommandLine;

/**
 * Manual prints, for the Debian package's build, the sections of the man
 * page ie-virsh(1) that {@code --help} alone does not give: every command's
 * own {@code --help}, as roff for help2man's {@code --include}. Made from
 * the commands' definitions, it cannot drift from what they print. With
 * {@code completion}, the bash completion of the same commands.
 */
public final class Manual {
    private Manual() {
    }

    public static void main(String[] args) {
        if (args.length == 1 && args[0].equals("completion")) {
            System.out.print(picocli.AutoComplete.bash("ie-virsh", Main.commandLine()));
            return;
        }
        CommandLine top = Main.commandLine();
        top.setUsageHelpWidth(80);
        StringBuilder roff = new StringBuilder("[COMMANDS]\n");
        for (Map.Entry<String, CommandLine> e : top.getSubcommands().entrySet()) {
            if (e.getValue().getCommandSpec().usageMessage().hidden() || e.getKey().equals("help")) {
                continue;
            }
            e.getValue().setUsageHelpWidth(80);
            roff.append(".SS \"ie-virsh ").append(e.getKey()).append("\"\n.nf\n");
            for (String line : e.getValue().getUsageMessage(CommandLine.Help.Ansi.OFF).split("\n", -1)) {
                String escaped = line.replace("\\", "\\e");
                roff.append(escaped.startsWith(".") || escaped.startsWith("'") ? "\\&" + escaped : escaped)
                        .append('\n');
            }
            roff.append(".fi\n");
        }
        roff.append("[FILES]\n.TP\n/etc/ie-virsh/controller.yaml\nthe admin's config, where students' directories,"
                + " images, quota, blades and courses are\n.TP\n~/ie-virsh/\na student's VM files (NAME.yaml) and"
                + " their statuses (.status/)\n[SEE ALSO]\nie-virsh-controller(8); /usr/share/doc/ie-virsh/README.md.gz\n");
        System.out.print(roff);
    }
}
