# htx_proto_library(NAME <target> PROTOS <files relative to IMPORT_ROOT>
#                   [IMPORT_ROOT <dir>] [DEPS <targets>] [GRPC])
# Compiles .proto files into the build tree (never into the source tree) and
# wraps the generated code in a static library. GRPC adds the service stubs.
function(htx_proto_library)
  cmake_parse_arguments(ARG "GRPC" "NAME;IMPORT_ROOT" "PROTOS;DEPS" ${ARGN})
  if(NOT ARG_IMPORT_ROOT)
    set(ARG_IMPORT_ROOT ${PROJECT_SOURCE_DIR}/proto)
  endif()
  set(out_dir ${PROJECT_BINARY_DIR}/gen)
  set(srcs)
  foreach(proto ${ARG_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" stem ${proto})
    set(outputs ${out_dir}/${stem}.pb.cc ${out_dir}/${stem}.pb.h)
    set(plugin_args)
    if(ARG_GRPC)
      list(APPEND outputs ${out_dir}/${stem}.grpc.pb.cc ${out_dir}/${stem}.grpc.pb.h)
      set(plugin_args --grpc_out=${out_dir}
                      --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND protobuf::protoc
        --cpp_out=${out_dir} ${plugin_args}
        -I ${ARG_IMPORT_ROOT} -I ${PROJECT_SOURCE_DIR}/proto
        ${ARG_IMPORT_ROOT}/${proto}
      DEPENDS ${ARG_IMPORT_ROOT}/${proto} protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${out_dir}/${stem}.pb.cc)
    if(ARG_GRPC)
      list(APPEND srcs ${out_dir}/${stem}.grpc.pb.cc)
    endif()
  endforeach()
  add_library(${ARG_NAME} STATIC ${srcs})
  target_include_directories(${ARG_NAME} PUBLIC ${out_dir})
  target_link_libraries(${ARG_NAME} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  if(ARG_GRPC)
    target_link_libraries(${ARG_NAME} PUBLIC gRPC::grpc++)
  endif()
endfunction()
