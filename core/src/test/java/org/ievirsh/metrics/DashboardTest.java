package org.ievirsh.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.ievirsh.support.Repo;
import org.junit.jupiter.api.Test;

/**
 * DashboardTest checks the layout rules Grafana applies when it imports
 * grafana/dashboard.json (no Grafana can be installed here, so the model is
 * checked): an open row holds no panels (its panels follow it at the top
 * level; Grafana shows panels kept inside an open row as an empty row), a
 * collapsed row holds its own; no two panels overlap; ids are unique; and
 * the import dialog asks for the Prometheus data source every query uses.
 * That every query returns data is PrometheusIT's.
 */
class DashboardTest {
    private static JsonNode dashboard() throws Exception {
        return new ObjectMapper().readTree(Repo.path("grafana/dashboard.json").toFile());
    }

    @Test
    void openRowsHoldNoPanelsAndCollapsedRowsHoldTheirOwn() throws Exception {
        int rows = 0;
        for (JsonNode panel : dashboard().path("panels")) {
            if (panel.path("type").asText().equals("row")) {
                rows++;
                boolean collapsed = panel.path("collapsed").asBoolean(false);
                int inside = panel.path("panels").size();
                assertTrue(collapsed || inside == 0, "the open row " + panel.path("title") + " holds " + inside
                        + " panels: Grafana would show it empty");
            } else {
                assertTrue(panel.path("panels").isMissingNode() || panel.path("panels").isEmpty(),
                        panel.path("title") + " is not a row and holds panels");
            }
        }
        assertTrue(rows >= 3, "Fleet, Students, Controller");
    }

    @Test
    void panelsNeitherOverlapNorShareAnId() throws Exception {
        List<int[]> boxes = new ArrayList<>();
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : all(dashboard().path("panels"))) {
            assertTrue(ids.add(panel.path("id").asInt()), "id " + panel.path("id") + " twice");
            JsonNode g = panel.path("gridPos");
            int[] box = {g.path("x").asInt(), g.path("y").asInt(), g.path("w").asInt(), g.path("h").asInt()};
            assertTrue(box[0] >= 0 && box[0] + box[2] <= 24 && box[2] > 0 && box[3] > 0, panel.path("title")
                    + " is outside the 24 columns");
            for (int[] other : boxes) {
                boolean apart = box[0] + box[2] <= other[0] || other[0] + other[2] <= box[0]
                        || box[1] + box[3] <= other[1] || other[1] + other[3] <= box[1];
                assertTrue(apart, panel.path("title") + " overlaps another panel");
            }
            boxes.add(box);
        }
    }

    @Test
    void theImportAsksForThePrometheusDataSourceEveryQueryUses() throws Exception {
        JsonNode dashboard = dashboard();
        JsonNode input = dashboard.path("__inputs").get(0);
        assertEquals("datasource", input.path("type").asText());
        assertEquals("prometheus", input.path("pluginId").asText());
        String name = "${" + input.path("name").asText() + "}";
        JsonNode variable = null;
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if (v.path("type").asText().equals("datasource")) {
                variable = v;
            }
        }
        assertEquals(name, variable.path("current").path("value").asText(), "the data source variable starts"
                + " on the one chosen at import");
        String inUse = "${" + variable.path("name").asText() + "}";
        for (JsonNode panel : all(dashboard.path("panels"))) {
            if (!panel.path("type").asText().equals("row")) {
                assertEquals(inUse, panel.path("datasource").path("uid").asText(), panel.path("title").asText());
                for (JsonNode target : panel.path("targets")) {
                    assertTrue(target.path("datasource").isMissingNode()
                            || target.path("datasource").path("uid").asText().equals(inUse), panel.path("title")
                            + " has a target on another data source");
                }
            }
        }
    }

    private static List<JsonNode> all(JsonNode panels) {
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode panel : panels) {
            all.add(panel);
            all.addAll(all(panel.path("panels")));
        }
        return all;
    }
}
