function out = rsa_mirror_load(file)
%RSA_MIRROR_LOAD Load a results file written by rsa_mirror into tidy MATLAB structs.
%   OUT = RSA_MIRROR_LOAD(FILE) reads the struct 'result' that rsa_mirror writes
%   (matlab_bridge.save_results in Python, or any rsa-mirror command with --mat FILE)
%   and returns it unpacked:
%     OUT.type     what Python wrote: 'BootstrapResult', 'AlignmentResult', 'table', 'dict', ...
%     OUT.version  the rsa_mirror version that wrote it, OUT.created when
%     OUT.<field>  every field, arrays in their Python shape (MATLAB drops trailing
%                  singleton axes), nested results unpacked the same way; tables become
%                  MATLAB tables (in Octave: structs of column vectors)
%     OUT.dims     for arrays with known axes, the axis names, e.g. dims.samples =
%                  {'brain', 'model', 'bootstrap'}; the axis labels are fields too
%                  (brain_names, model_names, ...)
%     OUT.units    what the numbers of each field are
%   Stimulus indices (field 'indices') are 1-based, ready for MATLAB indexing.
%
%   Example:
%     r = rsa_mirror_load('alignment.mat');
%     c = r.comparison;                      % model-brain correlations
%     bar(c.estimate(strcmp(c.brain_names, 'AL'), :)); set(gca, 'XTickLabel', c.model_names)
  if ~exist(file, 'file')
    error('rsa_mirror:load', 'rsa_mirror_load: no such file: %s', file);
  end
  try
    contents = load(file, 'result');
  catch err
    error('rsa_mirror:load', ['rsa_mirror_load: cannot read %s (%s). Octave cannot read v7.3 (HDF5) ' ...
          'struct arrays: write the file with format v7 (the default).'], file, err.message);
  end
  if ~isfield(contents, 'result') || ~isstruct(contents.result) || ~isfield(contents.result, 'type')
    error('rsa_mirror:load', 'rsa_mirror_load: %s holds no rsa_mirror result (no struct ''result'')', file);
  end
  if ~ischar(contents.result.type)   % Octave reads v7.3 (HDF5) structs with their text as numbers
    error('rsa_mirror:load', ['rsa_mirror_load: %s is a v7.3 (HDF5) file, whose struct arrays this ' ...
          'Octave cannot read correctly: write it with format v7 (the default).'], file);
  end
  out = unpack(contents.result);
  out.version = contents.result.version;
  out.created = contents.result.created;
end

function out = unpack(s)
  out = struct('type', s.type);
  names = fieldnames(s.data);
  for k = 1:numel(names)
    name = names{k};
    value = s.data.(name);
    if isstruct(value) && isfield(value, 'type') && isfield(value, 'data')
      value = unpack(value);
    elseif isfield(s, 'shapes') && isstruct(s.shapes) && isfield(s.shapes, name) && isnumeric(value)
      shape = double(s.shapes.(name));
      if numel(shape) >= 2 && prod(shape) == numel(value)
        value = reshape(value, shape);
      end
    end
    out.(name) = value;
  end
  if strcmp(s.type, 'table')
    out = rmfield(out, 'type');
    if exist('OCTAVE_VERSION', 'builtin') == 0   % MATLAB: a real table
      columns = fieldnames(out);
      for k = 1:numel(columns)
        out.(columns{k}) = out.(columns{k})(:);
      end
      out = struct2table(out);
    else
      columns = fieldnames(out);
      for k = 1:numel(columns)
        out.(columns{k}) = out.(columns{k})(:);
      end
    end
    return
  end
  for extra = {'dims', 'units'}
    if isfield(s, extra{1}) && isstruct(s.(extra{1}))
      out.(extra{1}) = s.(extra{1});
    end
  end
end
