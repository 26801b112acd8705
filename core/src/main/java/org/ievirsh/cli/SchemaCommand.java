package org.ievirsh.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.Callable;
import org.ievirsh.api.schema.SchemaCheck;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.VirtualMachineFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** SchemaCommand prints a JSON Schema, for editors (yaml-language-server) and scripts. */
@Command(name = "schema", mixinStandardHelpOptions = true,
        header = "Print a JSON Schema: vm, status or config.",
        description = "Print the JSON Schema of VM files (vm), of status files (status) or of the controller config"
                + " (config).",
        footer = {"", "Example:", "  ie-virsh schema vm > ~/.config/ie-virsh-vm.schema.json"})
final class SchemaCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "KIND", defaultValue = "vm", description = "vm (default), status or config.")
    String kind;

    @Override
    public Integer call() throws JsonProcessingException {
        SchemaCheck schema;
        switch (kind) {
            case "vm": schema = VirtualMachineFile.schema(); break;
            case "config": schema = ControllerConfig.schema(); break;
            case "status": schema = SchemaCheck.load(SchemaCheck.STATUS_V1); break;
            default:
                System.err.println("ie-virsh: schema takes vm, status or config, not " + kind);
                return 2;
        }
        System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(schema.schemaJson()));
        return 0;
    }
}
