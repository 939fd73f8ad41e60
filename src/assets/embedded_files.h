// File: embedded_files.h
// Files built into the binary (cmake/EmbedFiles.cmake): the dashboard's
// pages and its npm libraries, and the chart library the twin's report
// inlines. With them inside, `stargate server` serves the dashboard and
// `stargate twin run` writes a self-contained report wherever the binary
// lives, with no web/ directory beside it.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace stargate::assets {

// A built-in file by its path under web/ ("app.js",
// "node_modules/uplot/dist/uPlot.iife.min.js"); nullopt when it was not
// built in. The bytes live as long as the program.
std::optional<std::string_view> EmbeddedFile(std::string_view path);

// Every built-in file's path, in build order.
std::vector<std::string_view> EmbeddedPaths();

}  // namespace stargate::assets
