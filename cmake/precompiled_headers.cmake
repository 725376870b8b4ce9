# Precompiled headers for the native GCC builds. A header that most translation units parse (nlohmann/json
# alone is ~3.5 CPU-s a unit, GoogleTest more) is parsed once per build and loaded by each unit instead.
# Only system headers go in, so editing hearth never rebuilds them. GCC uses a header only where the
# compile options match; where they do not it warns (-Winvalid-pch, added by CMake) and parses as before.

# Every library and executable defined in `dir` and below that passes `filter` (a target name it must link
# directly, or "" for all) reuses `pch`'s header; `skip` lists targets left out.
function(hearth_reuse_pch dir pch filter skip)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    if(NOT type MATCHES "^(EXECUTABLE|STATIC_LIBRARY)$" OR t IN_LIST skip)
      continue()
    endif()
    if(filter)
      get_target_property(libs ${t} LINK_LIBRARIES)
      if(NOT filter IN_LIST libs)
        continue()
      endif()
    endif()
    target_precompile_headers(${t} REUSE_FROM ${pch})
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(d IN LISTS subdirs)
    hearth_reuse_pch(${d} ${pch} "${filter}" "${skip}")
  endforeach()
endfunction()

# A target whose only job is to compile `headers` into a precompiled header with `link`'s usage requirements.
function(hearth_pch_target name link)
  set(src ${CMAKE_CURRENT_BINARY_DIR}/${name}.cpp)
  # Written only when its text changes, so a re-configure (scripts/test.sh runs one) rebuilds nothing.
  file(CONFIGURE OUTPUT ${src} CONTENT "// ${name}: the precompiled header's own translation unit\n")
  add_library(${name} OBJECT ${src})
  target_link_libraries(${name} PRIVATE ${link} hearth_warnings)
  target_precompile_headers(${name} PRIVATE ${ARGN})
  set_target_properties(${name} PROPERTIES UNITY_BUILD OFF)
endfunction()
